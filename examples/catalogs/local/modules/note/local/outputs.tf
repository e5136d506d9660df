output "path" {
  description = "Path of the note, relative to where tofu runs."
  value       = local_file.note.filename
}

output "tags_path" {
  description = "Path of the note's tags file."
  value       = local_file.tags.filename
}
