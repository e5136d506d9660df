# The validate benchmark's peer for `conftest test`: the catalog's guardrails as Rego.
package main

import rego.v1

allowed_regions := {"eu-central-1", "eu-north-1", "eu-west-1", "us-east-1", "us-west-2"}

prod if input.metadata.environment == "prod"

deny contains msg if {
	not allowed_regions[input.spec.region]
	msg := sprintf("org.region-allowed: region %s is not allowed", [input.spec.region])
}

deny contains msg if {
	some r in input.spec.resources
	r.template == "postgres"
	r["with"].publiclyAccessible == true
	msg := sprintf("postgres.no-public-access: %s", [r.name])
}

deny contains msg if {
	prod
	some r in input.spec.resources
	r.template == "postgres"
	r["with"].highAvailability == false
	msg := sprintf("postgres.prod-high-availability: %s", [r.name])
}

deny contains msg if {
	prod
	some r in input.spec.resources
	r.template == "postgres"
	r["with"].deletionProtection == false
	msg := sprintf("postgres.prod-deletion-protection: %s", [r.name])
}

deny contains msg if {
	prod
	some r in input.spec.resources
	r.template == "postgres"
	r["with"].backupRetentionDays < 14
	msg := sprintf("postgres.prod-backup-retention: %s", [r.name])
}

deny contains msg if {
	some r in input.spec.resources
	r.template == "bucket"
	r["with"].public == true
	msg := sprintf("bucket.public-needs-waiver: %s", [r.name])
}

deny contains msg if {
	prod
	some r in input.spec.resources
	r.template == "bucket"
	r["with"].versioning == false
	msg := sprintf("bucket.prod-versioning: %s", [r.name])
}

deny contains msg if {
	some r in input.spec.resources
	r.template == "cache"
	r["with"].transitEncryption == false
	msg := sprintf("cache.transit-encryption: %s", [r.name])
}

deny contains msg if {
	prod
	some r in input.spec.resources
	r.template == "cache"
	object.get(r["with"], "nodes", 2) < 2
	msg := sprintf("cache.prod-failover: %s", [r.name])
}
