#!/usr/bin/env python3
"""Rewrites the expected help texts in Tests/flashkmeansTests/HelpTextTests.swift from the
built binary (80 columns), after a deliberate change to an option or its help.

    python3 Scripts/regenerate_help_texts.py [BINARY]   (default .build/debug/flashkmeans)
"""
import os
import re
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/flashkmeans"
path = "Tests/flashkmeansTests/HelpTextTests.swift"
source = open(path).read()


def current(match):
    command = match.group(1)
    arguments = [binary, "help"] + ([command] if command else [])
    text = subprocess.run(arguments, env={**os.environ, "COLUMNS": "80"}, capture_output=True, text=True, check=True).stdout
    # The literal leaves out the final line break the command prints.
    return f'"{command}": #"""\n{text[:-1] if text.endswith(chr(10)) else text}\n"""#'


updated = re.sub(r'"([a-z]*)": #"""\n.*?\n"""#', current, source, flags=re.S)
open(path, "w").write(updated)
print("updated" if updated != source else "unchanged", path)
