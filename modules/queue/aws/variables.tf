variable "name" {
  description = "Name of the queue; the dead-letter queue is named after it with a -dlq suffix."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,70}$", var.name))
    error_message = "name must be 1-70 letters, digits, hyphens or underscores (suffixes are added for FIFO and the dead-letter queue)."
  }
}

variable "tags" {
  description = "Tags applied to every resource (team, environment, costCenter, stack)."
  type        = map(string)
  default     = {}
}

variable "fifo" {
  description = "Create FIFO queues (exactly-once, ordered). Adds the .fifo suffix AWS requires."
  type        = bool
  default     = false
}

variable "message_retention_seconds" {
  description = "How long messages stay in the main queue."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "max_receive_count" {
  description = "Receives before a message moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "sqs_managed_sse_enabled" {
  description = "Encrypt with SQS-managed keys. Used when kms_master_key_id is null."
  type        = bool
  default     = true
}

variable "kms_master_key_id" {
  description = "KMS key (id, ARN or alias) for encryption; null uses SQS-managed encryption."
  type        = string
  default     = null
}
