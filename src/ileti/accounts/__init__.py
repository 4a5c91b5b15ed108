"""What an account holds and the operator manages: accounts, balances, keys, sender IDs,
prices and webhook settings."""
