output "ids" {
  description = "Ids of the marker's copies."
  value       = terraform_data.marker[*].id
}

output "summary" {
  description = "One line: name, release and copies."
  value       = "${var.name} ${var.release} x${var.copies}"
}
