resource "local_file" "note" {
  filename             = "${var.directory}/${var.name}.txt"
  content              = "${var.text}\n"
  file_permission      = var.file_permission
  directory_permission = "0755"
}

resource "local_file" "tags" {
  filename             = "${var.directory}/${var.name}.tags.json"
  content              = "${jsonencode(var.tags)}\n"
  file_permission      = var.file_permission
  directory_permission = "0755"
}
