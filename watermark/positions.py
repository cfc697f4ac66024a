"""Where a mark can go. A module of its own, with no imports, so a profile can be validated
without loading the stamper."""

POSITIONS = (
    "top-left",
    "top",
    "top-right",
    "left",
    "center",
    "right",
    "bottom-left",
    "bottom",
    "bottom-right",
    "tiled",
)
