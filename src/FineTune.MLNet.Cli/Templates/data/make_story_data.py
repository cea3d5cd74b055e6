"""Writes the story CSVs that `finetune new sft|dpo` bundles into the generated project.

Source: samples/Shared/TinyStories/stories.txt (TinyStories, CDLA-Sharing-1.0; provenance in its README).
- story_continuations.csv (Prompt, Response): stories 1-64; Prompt = the story's first sentence,
  Response = the next two sentences.
- story_preferences.csv (Prompt, Chosen, Rejected): stories 65-128; Chosen = the story's own next two sentences,
  Rejected = the next two sentences of the story 32 places on (another story: off topic).
Run from the repository root: python3 src/FineTune.MLNet.Cli/Templates/data/make_story_data.py
"""
import csv
import re
from pathlib import Path

here = Path(__file__).parent
stories = [s.strip() for s in (Path("samples/Shared/TinyStories/stories.txt").read_text(encoding="utf-8")).split("<|endoftext|>")]
stories = [s for s in stories if s]


def sentences(story):
    flat = " ".join(story.split())
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"])", flat) if s]


def opening_and_next(story):
    s = sentences(story)
    return s[0], " ".join(s[1:3])


def write(name, header, rows):
    with open(here / name, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


write("story_continuations.csv", ["Prompt", "Response"], [opening_and_next(s) for s in stories[0:64]])
block = stories[64:128]
rows = []
for i, s in enumerate(block):
    prompt, chosen = opening_and_next(s)
    _, rejected = opening_and_next(block[(i + 32) % len(block)])
    rows.append((prompt, chosen, rejected))
write("story_preferences.csv", ["Prompt", "Chosen", "Rejected"], rows)
