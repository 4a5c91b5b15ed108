"""Excel to SMS: a file of customers read, personalised, previewed and sent as a campaign."""
