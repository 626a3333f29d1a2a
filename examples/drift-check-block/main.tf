# Terraform >= 1.5: the drift check as a `check` block. A failed check is a warning, so the run
# goes on and the report shows what drifted; use fail_on_drift where drift must stop the plan.

terraform {
  required_version = ">= 1.5"
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

variable "host_id" {
  type    = string
  default = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}

variable "allowed" {
  type    = list(string)
  default = ["68/udp", "323/udp@loopback"]
}

check "open_ports" {
  data "hss_host_port_drift" "this" {
    host_id = var.host_id
    allowed = var.allowed
  }

  assert {
    condition     = data.hss_host_port_drift.this.in_policy
    error_message = "Host ${var.host_id} drifts from its port policy: ${data.hss_host_port_drift.this.summary}"
  }
}
