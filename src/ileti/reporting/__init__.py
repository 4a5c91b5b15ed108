"""What happened to an account's messages: states, pages of messages, day totals."""
