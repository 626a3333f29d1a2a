terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

# Terraform >= 1.8 (OpenTofu >= 1.7).
output "sshd_on_all_addresses_is_not_loopback_only" {
  # false: a listener on 0.0.0.0 exposes every address, so @127.0.0.1 does not allow it.
  value = provider::hss::port_allowed({ port = 22, type = "TCP", laddr = "0.0.0.0" }, ["22/tcp@127.0.0.1"])
}
