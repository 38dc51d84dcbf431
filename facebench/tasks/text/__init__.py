"""Chinese text classification (FaCe §4.5): NEZHA, RoBERTa and four RoBERTa variants."""
