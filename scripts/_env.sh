# Shared by the scripts: where the project and its virtual environments are.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VENV310="$ROOT/.venv-py310"
PY="$VENV/bin/python"
PY310="$VENV310/bin/python"

# The minimum supported Python (3.10): $PYTHON310, else pyenv's, else python3.10 on PATH.
find_python310() {
    local cand
    for cand in "${PYTHON310:-}" "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 \
        "$(command -v python3.10 2>/dev/null)"; do
        # A pyenv shim exists even when it cannot run 3.10: ask the interpreter itself.
        if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c "" 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    done
    return 1
}
