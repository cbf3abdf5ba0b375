#!/usr/bin/env bash
# Re-execute notebooks, then strip every output except those of the `# NBVAL_CHECK_OUTPUT`
# cells, which are marked keep_output so nbval has a reference to compare against.
# Usage: notebooks/refresh.sh [NOTEBOOK ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -eq 0 ]; then set -- *.ipynb; fi
for nb in "$@"; do
  python - "$nb" <<'PY'
import sys, nbformat
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
for cell in nb.cells:
    if cell.cell_type == "code":
        checked = cell.source.startswith("# NBVAL_CHECK_OUTPUT")
        cell.metadata.pop("keep_output", None)
        if checked:
            cell.metadata["keep_output"] = True
nbformat.write(nb, path)
PY
  jupyter nbconvert --to notebook --execute --inplace "$nb"
  nbstripout --keep-id --keep-count "$nb"
done
