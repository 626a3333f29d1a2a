# Drift check: fail the plan when a host listens on anything the code does not allow, or stops
# listening on something it must. Works on Terraform 1.0 and later.
#
# Run it in CI with `terraform plan`: with fail_on_drift, the plan fails with an error that names
# every unexpected port (protocol/port, address, process) and every missing rule. The data
# source reads every page or fails, so a check never passes on a partial list.

terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

variable "host_id" {
  type        = string
  description = "The server to check."
  default     = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}

variable "allowed" {
  type        = list(string)
  description = "What the host may listen on: rules such as \"22/tcp\" or \"*/udp@loopback\"."
  default     = ["68/udp", "323/udp@loopback"]
}

variable "required" {
  type        = list(string)
  description = "What the host must listen on."
  default     = ["68/udp"]
}

data "hss_host_port_drift" "this" {
  host_id       = var.host_id
  allowed       = var.allowed
  required      = var.required
  fail_on_drift = true
}

output "drift" {
  value = data.hss_host_port_drift.this.summary
}

output "in_policy" {
  value = data.hss_host_port_drift.this.in_policy
}
