variable "name" {
  description = "Name of the marker."
  type        = string
}

variable "tags" {
  description = "Tags of the marker (team, environment, costCenter, stack), kept in its input."
  type        = map(string)
  default     = {}
}

variable "release" {
  description = "Release the marker records; a new release replaces the marker."
  type        = string
  default     = "v1"
}

variable "copies" {
  description = "Copies of the marker (1-5)."
  type        = number
  default     = 1

  validation {
    condition     = var.copies >= 1 && var.copies <= 5
    error_message = "copies must be 1 to 5."
  }
}
