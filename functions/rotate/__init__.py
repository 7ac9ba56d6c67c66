"""Lambda function code (see the handler module)."""
