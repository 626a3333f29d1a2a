terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

# Every server with sshd on TCP port 22, and the ones that expose it on every address.
data "hss_port_hosts" "ssh" {
  port = 22
  type = "TCP"
}

output "ssh_servers" {
  value = distinct([for r in data.hss_port_hosts.ssh.hosts : r.host_name])
}

output "ssh_on_every_address" {
  value = distinct([for r in data.hss_port_hosts.ssh.hosts : r.host_name if contains(["0.0.0.0", "::"], r.laddr)])
}
