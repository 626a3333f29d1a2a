# Drift check: fail the plan when a host listens on a port that the code does not allow.
#
# Run it in CI with `terraform plan`: the plan fails, naming the unexpected ports, as soon as
# HSS reports one. The data source reads every page or fails, so a check never passes on a
# partial list.

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

variable "allowed_ports" {
  type        = set(string)
  description = "What the host may listen on, as \"TYPE/PORT\"."
  default     = ["UDP/68", "UDP/323"]
}

data "hss_host_ports" "this" {
  host_id = var.host_id
}

locals {
  open       = [for p in data.hss_host_ports.this.ports : "${p.type}/${p.port}"]
  unexpected = sort(distinct([for p in local.open : p if !contains(var.allowed_ports, p)]))

  # Terraform 1.0 has no check blocks or postconditions. A call that cannot succeed stops the
  # plan with the message in its error instead: file() of a path that does not exist.
  drift = length(local.unexpected) == 0 ? "no drift" : file("UNEXPECTED OPEN PORTS on ${var.host_id}: ${join(", ", local.unexpected)}")

  # On Terraform >= 1.5 the same check reads better as a check block (a warning), or as a
  # postcondition on the data source (an error):
  #
  #   check "open_ports" {
  #     assert {
  #       condition     = length(local.unexpected) == 0
  #       error_message = "Unexpected open ports: ${join(", ", local.unexpected)}"
  #     }
  #   }
  #
  #   data "hss_host_ports" "this" {
  #     host_id = var.host_id
  #     lifecycle {
  #       postcondition {
  #         condition     = alltrue([for p in self.ports : contains(var.allowed_ports, "${p.type}/${p.port}")])
  #         error_message = "The host listens on ports that are not allowed."
  #       }
  #     }
  #   }
}

output "drift" {
  value = local.drift
}

output "open_ports" {
  value = local.open
}
