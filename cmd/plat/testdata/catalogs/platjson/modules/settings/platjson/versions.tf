terraform {
  required_version = ">= 1.6.0"
  required_providers {
    platjson = { source = "plat/platjson" }
  }
}
