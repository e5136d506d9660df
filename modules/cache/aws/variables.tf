variable "name" {
  description = "Replication group id (1-40 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name)) && !endswith(var.name, "-") && !strcontains(var.name, "--")
    error_message = "name must start with a letter, hold only lowercase letters, digits and single hyphens, and be at most 40 characters."
  }
}

variable "tags" {
  description = "Tags applied to every resource (team, environment, costCenter, stack)."
  type        = map(string)
  default     = {}
}

variable "engine" {
  description = "Cache engine: \"redis\" or \"valkey\"."
  type        = string
  default     = "valkey"

  validation {
    condition     = contains(["redis", "valkey"], var.engine)
    error_message = "engine must be \"redis\" or \"valkey\"."
  }
}

variable "node_type" {
  description = "ElastiCache node type, for example cache.t4g.small."
  type        = string

  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type must be an ElastiCache node type such as cache.t4g.small."
  }
}

variable "num_cache_clusters" {
  description = "Number of nodes: one primary plus replicas."
  type        = number
  default     = 2

  validation {
    condition     = var.num_cache_clusters >= 1 && var.num_cache_clusters <= 6
    error_message = "num_cache_clusters must be between 1 and 6."
  }
}

variable "transit_encryption_enabled" {
  description = "Encrypt traffic with TLS. The platform always requires it."
  type        = bool
  default     = true

  validation {
    condition     = var.transit_encryption_enabled
    error_message = "Caches always encrypt traffic in transit (guardrail cache.transit-encryption)."
  }
}

variable "at_rest_encryption_enabled" {
  description = "Encrypt data at rest. The platform always requires it."
  type        = bool
  default     = true

  validation {
    condition     = var.at_rest_encryption_enabled
    error_message = "Caches always encrypt data at rest (guardrail cache.at-rest-encryption)."
  }
}

variable "automatic_failover_enabled" {
  description = "Promote a replica when the primary fails; needs at least two nodes."
  type        = bool
  default     = true
}

variable "multi_az_enabled" {
  description = "Spread nodes over availability zones; needs automatic failover."
  type        = bool
  default     = true
}

variable "subnet_ids" {
  description = "Private subnets for the cache subnet group; empty uses the default VPC's subnets."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups attached to the nodes."
  type        = list(string)
  default     = []
}
