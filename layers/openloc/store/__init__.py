"""Data access: interfaces with DynamoDB/SQS/S3/Redis implementations and in-memory twins."""
