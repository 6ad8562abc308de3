"""One module per API area; each class is a table of small endpoint methods."""
