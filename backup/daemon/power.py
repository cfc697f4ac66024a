"""Whether the computer runs on battery (psutil), for ``[schedule] on_battery = false``."""

from __future__ import annotations


def on_battery() -> bool:
    """True only when a battery is present and the computer is not on mains power."""
    try:
        import psutil

        battery = psutil.sensors_battery()
    except (ImportError, OSError, RuntimeError, AttributeError):
        return False
    return battery is not None and battery.power_plugged is False
