resource "platjson_document" "this" {
  # Outside the rendered stack directory, which plat render replaces.
  path = "${path.root}/../${var.name}.json"
  content = {
    owner    = var.owner
    replicas = tostring(var.replicas)
    public   = tostring(var.public)
    tier     = var.tier
    banner   = upper(var.owner)
    team     = var.tags["team"]
    format   = "v1"
  }
}
