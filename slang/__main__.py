"""`python -m slang`: the same command line as the `slang` script, for environments where the
console script is not on PATH (a venv that is not activated, a zipapp)."""

from slang.cli import main

if __name__ == "__main__":
    main(prog_name="slang")
