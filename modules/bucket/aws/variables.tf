variable "name" {
  description = "Name of the S3 bucket (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "tags" {
  description = "Tags applied to every resource (team, environment, costCenter, stack)."
  type        = map(string)
  default     = {}
}

variable "versioning" {
  description = "Keep every version of every object."
  type        = bool
  default     = true
}

variable "sse_algorithm" {
  description = "Server-side encryption: \"aws:kms\" or \"AES256\". Encryption is always on."
  type        = string
  default     = "aws:kms"

  validation {
    condition     = contains(["aws:kms", "AES256"], var.sse_algorithm)
    error_message = "sse_algorithm must be \"aws:kms\" or \"AES256\" (guardrail bucket.encryption)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for aws:kms encryption; null uses the AWS-managed key."
  type        = string
  default     = null
}

variable "block_public_access" {
  description = "Block every form of public access. Turning it off needs a platform waiver."
  type        = bool
  default     = true
}

variable "expire_after_days" {
  description = "Delete objects this many days after creation; null keeps them."
  type        = number
  default     = null

  validation {
    condition     = var.expire_after_days == null || try(var.expire_after_days >= 1, false)
    error_message = "expire_after_days must be at least 1 when set."
  }
}
