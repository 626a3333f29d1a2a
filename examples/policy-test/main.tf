# A port-policy module and its tests (tests/policy.tftest.hcl), run offline against hss-sim:
#
#   hss-sim --listen 127.0.0.1:8080 --project-id my-project --token my-test-token-0123456789 &
#   export HW_HSS_ENDPOINT=http://127.0.0.1:8080 HW_PROJECT_ID=my-project HW_AUTH_TOKEN=my-test-token-0123456789
#   terraform init && terraform test      # Terraform >= 1.6

terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

variable "host_id" {
  type = string
}

variable "allowed" {
  type = list(string)
}

data "hss_host_port_drift" "this" {
  host_id = var.host_id
  allowed = var.allowed
}

output "in_policy" {
  value = data.hss_host_port_drift.this.in_policy
}

output "unexpected" {
  value = [for p in data.hss_host_port_drift.this.unexpected : "${p.type}/${p.port}"]
}
