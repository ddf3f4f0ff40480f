"""usage.py is read by a type checker (tests/test_typing.py), never imported or run."""

collect_ignore: list[str] = ["usage.py"]
