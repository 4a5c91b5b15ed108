"""Who is calling, and what may they do: keys, their permissions, limits and allowlists."""
