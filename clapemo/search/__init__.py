"""Search your own audio with text: an index of a folder embedded by a trained run, queried with prompts.

:func:`index` embeds every audio file under a folder with a run's frozen encoder and its audio projection (the
joint space, L2-normalised), measures its acoustic properties (``clapemo.features``) and names their bins in the
run's prompt words (``clapemo.describe``). :func:`search` embeds text queries with the run's text projection and
ranks the clips by cosine similarity: one matrix product for all queries, top-k by ``argpartition``.

The package, one module per concern:

* :mod:`clapemo.search.store`: the files of an index (``index.json``, the part files), its marker and repair;
* :mod:`clapemo.search.build`: the indexing pipeline (:func:`index`, :func:`embed_files`);
* :mod:`clapemo.search.query`: the loaded :class:`Index`, :func:`load_index`, :func:`search`, :func:`top_k`;
* :mod:`clapemo.search.notebook`: the notebook helpers (:func:`index_folder`, :func:`show_hits` ...);
* :mod:`clapemo.search.commands`: ``clapemo index`` and ``clapemo search``.

The index folder
----------------
``INDEX/index.json`` (format, the run, the folder indexed, the part files) and ``INDEX/parts/<digest>.npz``,
each holding ``embeddings`` (float32, ``(n, projection_dim)``) and ``records`` (the table rows as JSON). Each
part is written atomically (:func:`clapemo.files.atomic_write`) before ``index.json`` names it, so a killed run
leaves a valid index of the chunks it finished, and the next run continues from there; at the end of a run the
parts are merged into one. Files are matched by content (:func:`clapemo.files.file_sha256`): a re-run embeds
only new or changed files (a moved file reuses its embedding), and files gone from the folder leave the index.
A file that cannot be embedded keeps a row with its ``error`` (it is never a search hit); a file that embeds
but cannot be measured keeps its ``features_error`` (it is searchable, its properties are empty). One process
at a time may write an index (:class:`clapemo.files.FolderLock`).

What an index never does: delete or overwrite a file it did not write. ``index.json`` (its ``format``) is the
marker of an index folder, written before any part: ``index`` writes only into a new or empty folder or an
existing index (anything else is refused before any work), and removes from ``parts/`` only the part files it
wrote (named in ``index.json`` with the part-name pattern, or of that pattern and format) and its own stale
temporaries (``.<name>.<8 chars>.tmp``); anything else there is left alone. An index holds one folder: indexing
another folder into it is refused (index into another output, or delete the index first). A damaged index (an
unreadable part, a part of another width, ``index.json`` missing or mangling a field) is a
:class:`~clapemo.errors.DataError` for ``search`` naming the file and the fault; ``index`` repairs it (what a
damaged part held is embedded again). File names that are not UTF-8 (``caf\\xe9.wav``) are recorded
backslash-escaped (:func:`clapemo.files.display_path`) and embedded through a UTF-8 alias.

``clapemo index DIR --run NAME -o INDEX`` and ``clapemo search INDEX "high pitch anger" ["low intensity sad"
...] [-k 10] [--json]``.
"""

from __future__ import annotations

from clapemo.search.build import CHUNK_FILES, embed_files, index
from clapemo.search.commands import index_cli, search_cli
from clapemo.search.notebook import HitsView, default_folder, index_folder, project_folder, show_hits
from clapemo.search.query import HIT_COLUMNS, Index, load_index, search, top_k
from clapemo.search.store import ENTRY_COLUMNS, INDEX_FORMAT, PART_PATTERN, write_meta, write_part

__all__ = [
    "CHUNK_FILES",
    "ENTRY_COLUMNS",
    "HIT_COLUMNS",
    "INDEX_FORMAT",
    "HitsView",
    "Index",
    "PART_PATTERN",
    "default_folder",
    "embed_files",
    "index",
    "index_cli",
    "index_folder",
    "load_index",
    "project_folder",
    "search",
    "search_cli",
    "show_hits",
    "top_k",
    "write_meta",
    "write_part",
]
