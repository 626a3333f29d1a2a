terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

# Fails the plan when the server listens on anything but DHCP (any address) and chrony
# (loopback only), or when DHCP is not listening. Works on Terraform 1.0 and later.
data "hss_host_port_drift" "this" {
  host_id       = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
  allowed       = ["68/udp", "323/udp@loopback"]
  required      = ["68/udp"]
  fail_on_drift = true
}

output "port_policy" {
  value = data.hss_host_port_drift.this.summary
}
