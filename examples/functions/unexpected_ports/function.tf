terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

# Terraform >= 1.8 (OpenTofu >= 1.7): the same matcher as hss_host_port_drift, as a function.
data "hss_host_ports" "this" {
  host_id = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}

output "unexpected" {
  # [] for the reference host: DHCP on any address, anything UDP on loopback.
  value = provider::hss::unexpected_ports(data.hss_host_ports.this.ports, ["68/udp", "*/udp@loopback"])
}
