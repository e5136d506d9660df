variable "name" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "owner" {
  type = string
}

variable "replicas" {
  type    = number
  default = 1
}

variable "public" {
  type    = bool
  default = false
}

variable "tier" {
  type    = string
  default = "single"
}
