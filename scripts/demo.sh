#!/usr/bin/env bash
# Runs the sentiment fine-tuning demo on the bundled reviews (README: "run the main job").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
dotnet run -c Release --project samples/SentimentClassifier -- "$@"
