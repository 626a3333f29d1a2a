# Terraform >= 1.8 (OpenTofu >= 1.7): the same matcher as a provider function, for when the
# ports come from somewhere else or the rules differ per port.

terraform {
  required_version = ">= 1.8"
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

data "hss_host_ports" "this" {
  host_id = var.host_id
}

locals {
  unexpected = provider::hss::unexpected_ports(data.hss_host_ports.this.ports, ["68/udp", "*/udp@loopback"])
}

output "unexpected_count" {
  value = length(local.unexpected)
}

output "dhclient_allowed_on_loopback_only" {
  # false: dhclient listens on 0.0.0.0, which exposes every address.
  value = provider::hss::port_allowed(data.hss_host_ports.this.ports[0], ["68/udp@loopback"])
}
