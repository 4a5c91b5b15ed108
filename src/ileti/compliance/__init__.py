"""Who may not be sent to: an account's blacklist and its recipients' opt-outs."""
