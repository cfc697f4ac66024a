"""The first-run setup wizard's use cases: plain functions the browser app calls, each returning
a small result whose ``as_dict()`` is its JSON document (nothing here knows about the web).

- ``suggested_folders``, ``list_folders`` (``folders``): where a creator's photos and videos
  likely are, and a folder picker's listing;
- ``mounted_drives`` (``drives``): the external drives mounted now, their room, and whether
  Keepmark already backs up to them;
- ``probe_target`` (``probe``): a target spec, as ``backup init --target`` reads it, tried for
  real (a small object written, read back, removed) without creating a profile;
- ``save_s3_credentials`` (``credentials``): keys into the AWS shared credentials file;
- ``new_rclone_remote``, ``oauth_remote_steps`` (``remotes``): an rclone remote that needs no
  browser sign-in, made with the real rclone; the terminal steps for one that does;
- ``timestamp_authorities`` (``backup.app.timestamps.offered``): the public RFC 3161 timestamp
  authorities offered, the default first, and ``WHAT_IS_SENT``, said before one is chosen.
"""

from backup.app.setup.credentials import SavedCredentials, save_s3_credentials
from backup.app.setup.drives import Drive, DriveList, mounted_drives
from backup.app.setup.folders import FolderListing, FolderSuggestions, list_folders, suggested_folders
from backup.app.setup.probe import Probe, probe_target
from backup.app.setup.remotes import NewRemote, new_rclone_remote, oauth_remote_steps
from backup.app.timestamps import WHAT_IS_SENT
from backup.app.timestamps import offered as timestamp_authorities

__all__ = [
    "WHAT_IS_SENT",
    "Drive",
    "DriveList",
    "FolderListing",
    "FolderSuggestions",
    "NewRemote",
    "Probe",
    "SavedCredentials",
    "list_folders",
    "mounted_drives",
    "new_rclone_remote",
    "oauth_remote_steps",
    "probe_target",
    "save_s3_credentials",
    "suggested_folders",
    "timestamp_authorities",
]
