locals {
  engine_version = var.engine == "valkey" ? "8.0" : "7.1"
  family         = var.engine == "valkey" ? "valkey8" : "redis7"
}

resource "aws_elasticache_subnet_group" "this" {
  count = length(var.subnet_ids) > 0 ? 1 : 0

  name       = "${var.name}-cache"
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.name}-${local.family}"
  family      = local.family
  description = "Parameters for ${var.name} (managed by plat)"

  parameter {
    name  = "maxmemory-policy"
    value = "volatile-lru"
  }

  tags = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "${var.name} (managed by plat)"

  engine               = var.engine
  engine_version       = local.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.num_cache_clusters
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = length(var.subnet_ids) > 0 ? aws_elasticache_subnet_group.this[0].name : null
  security_group_ids   = var.security_group_ids

  transit_encryption_enabled = var.transit_encryption_enabled
  at_rest_encryption_enabled = var.at_rest_encryption_enabled
  automatic_failover_enabled = var.automatic_failover_enabled
  multi_az_enabled           = var.multi_az_enabled

  snapshot_retention_limit   = 7
  auto_minor_version_upgrade = true
  apply_immediately          = false

  tags = var.tags

  lifecycle {
    precondition {
      condition     = !var.automatic_failover_enabled || var.num_cache_clusters >= 2
      error_message = "automatic_failover_enabled needs num_cache_clusters >= 2."
    }
    precondition {
      condition     = !var.multi_az_enabled || var.automatic_failover_enabled
      error_message = "multi_az_enabled needs automatic_failover_enabled."
    }
  }
}
