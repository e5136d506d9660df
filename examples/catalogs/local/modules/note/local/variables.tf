variable "name" {
  description = "Name of the note: its file is DIRECTORY/NAME.txt."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens."
  }
}

variable "tags" {
  description = "Tags of the note (team, environment, costCenter, stack), written beside it as NAME.tags.json."
  type        = map(string)
  default     = {}
}

variable "text" {
  description = "What the file says."
  type        = string
}

variable "directory" {
  description = "Directory of the file, relative to where tofu runs."
  type        = string
  default     = "files"
}

variable "file_permission" {
  description = "File permission: \"0600\", \"0640\" or \"0644\"."
  type        = string
  default     = "0600"

  validation {
    condition     = contains(["0600", "0640", "0644"], var.file_permission)
    error_message = "file_permission must be 0600, 0640 or 0644 (guardrail note.world-readable-needs-waiver)."
  }
}
