output "path" {
  value = platjson_document.this.path
}
