resource "terraform_data" "marker" {
  count = var.copies

  input = {
    name    = "${var.name}-${count.index}"
    release = var.release
    tags    = var.tags
  }
  triggers_replace = [var.release]
}
