variable "name" {
  description = "Identifier of the DB instance; also prefixes the subnet and parameter groups."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.name)) && !endswith(var.name, "-") && !strcontains(var.name, "--")
    error_message = "name must start with a letter, hold only lowercase letters, digits and single hyphens, and be at most 63 characters."
  }
}

variable "tags" {
  description = "Tags applied to every resource (team, environment, costCenter, stack)."
  type        = map(string)
  default     = {}
}

variable "engine_version" {
  description = "PostgreSQL major version."
  type        = string

  validation {
    condition     = contains(["15", "16", "17"], var.engine_version)
    error_message = "engine_version must be one of \"15\", \"16\" or \"17\"."
  }
}

variable "instance_class" {
  description = "RDS instance class, for example db.t4g.small."
  type        = string

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS instance class such as db.t4g.small."
  }
}

variable "allocated_storage" {
  description = "Allocated storage in GiB."
  type        = number

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 2000 && floor(var.allocated_storage) == var.allocated_storage
    error_message = "allocated_storage must be a whole number of GiB between 20 and 2000."
  }
}

variable "multi_az" {
  description = "Run a synchronous standby in a second availability zone."
  type        = bool
  default     = false
}

variable "backup_retention_period" {
  description = "Days to keep automated backups."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_period >= 1 && var.backup_retention_period <= 35
    error_message = "backup_retention_period must be between 1 and 35 days."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance until this is turned off."
  type        = bool
  default     = true
}

variable "publicly_accessible" {
  description = "Whether the instance gets a public address. The platform never allows it."
  type        = bool
  default     = false

  validation {
    condition     = var.publicly_accessible == false
    error_message = "Databases are never publicly accessible (guardrail postgres.not-public)."
  }
}

variable "storage_encrypted" {
  description = "Encrypt storage at rest. The platform always requires it."
  type        = bool
  default     = true

  validation {
    condition     = var.storage_encrypted
    error_message = "Database storage is always encrypted (guardrail postgres.storage-encrypted)."
  }
}

variable "kms_key_id" {
  description = "ARN of a customer-managed KMS key for storage encryption; null uses the AWS-managed key."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets for the DB subnet group; empty uses the default VPC's subnets."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups attached to the instance."
  type        = list(string)
  default     = []
}
