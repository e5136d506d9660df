output "primary_endpoint" {
  description = "Address of the primary node (TLS on port 6379)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint" {
  description = "Address that load-balances reads over the replicas."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "arn" {
  description = "ARN of the replication group."
  value       = aws_elasticache_replication_group.this.arn
}
