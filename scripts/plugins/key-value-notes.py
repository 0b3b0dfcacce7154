#!/usr/bin/env python3
"""Mata metadata plug-in: "Key: value" (or "Key = value") lines of instrument notes become tags.

Protocol (README "Metadata plug-ins"): Mata runs a plug-in for a `[[rules]]` entry such as

    [[rules]]
    glob = "**/*.notes.txt"
    plugin = ["/usr/bin/python3", "/opt/mata/plugins/key-value-notes.py"]
    subtree = "Notes"
    timeout_seconds = 30

when files matching `glob` are added or changed in a dataset. It runs as the dataset folder's owner, in that folder
(MATA_DATASET_PATH, MATA_DATASET_ID are set), in a process group of its own that is killed after timeout_seconds,
with the changed files as `./name` arguments. On stdin it gets one JSON object:

    {"protocol": 1,
     "dataset": {"id": 7, "uid": "...", "path": "knee-ct", "title": "", "owner": "ann"},
     "subtree": "Notes",
     "changed": ["scan.notes.txt"],          # added or changed since the last run
     "files": ["scan.notes.txt", ...]}       # every file of the dataset the glob matches (at most 10,000)

and prints on stdout, within 1 MiB:

    {"tags": [{"key": "Objective", "value": "20x", "children": []}, ...]}

Mata writes those tags under the rule's subtree (here "Notes" > "Objective" = "20x"), replacing what the plug-in
wrote before; keys a person added, changed or removed there are kept as the person left them. Keys and values follow
the tag limits (keys up to 200 characters, values up to 4,096, no control characters, 8 levels, 2,000 tags per
dataset). A non-zero exit, a timeout, more than 1 MiB or invalid JSON is recorded on the dataset as this plug-in's
failure and changes no tag. Print diagnostics on stderr (its last lines are kept with a failure), never personal data.

This example reads every matching file (so its answer is whole, not just the changed ones): one file gives its keys
directly, several give one child per file.
"""
import json
import os
import re
import sys

MAX_KEYS = 200
LINE = re.compile(r"^\s*([^:=#;\[][^:=]{0,199}?)\s*[:=]\s*(.*?)\s*$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def settings(name):
    """The key-value pairs of one notes file, first value of a key kept, control characters dropped."""
    out = {}
    with open(name, encoding="utf-8", errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\r\n"))
            if not m or len(out) >= MAX_KEYS:
                continue
            key, value = CONTROL.sub("", m.group(1)).strip(), CONTROL.sub("", m.group(2))[:4096]
            if key and key not in out:
                out[key] = value
    return [{"key": k, "value": v, "children": []} for k, v in out.items()]


def main():
    request = json.load(sys.stdin)
    if request.get("protocol") != 1:
        print(f"unknown protocol {request.get('protocol')!r}", file=sys.stderr)
        return 2
    files = [f for f in request["files"] if os.path.isfile(f)]
    if len(files) == 1:
        tags = settings(files[0])
    else:
        tags = [{"key": f[:200], "value": "", "children": settings(f)} for f in files]
    json.dump({"tags": tags}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
