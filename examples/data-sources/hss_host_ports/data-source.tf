terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

# Region, project and credentials come from HW_REGION_NAME (or HW_HSS_ENDPOINT), HW_PROJECT_ID
# and HW_AUTH_TOKEN (or HW_ACCESS_KEY and HW_SECRET_KEY).
provider "hss" {}

# Every open port of one server, from all pages, sorted by port, type and address.
data "hss_host_ports" "web" {
  host_id = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}

# Only the TCP ports HSS flags as dangerous.
data "hss_host_ports" "web_dangerous_tcp" {
  host_id = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
  type    = "TCP"
  status  = "danger"
}

output "open_ports" {
  value = [for p in data.hss_host_ports.web.ports : "${p.type}/${p.port} ${p.laddr} ${p.path}"]
}

output "total_num" {
  value = data.hss_host_ports.web.total_num
}

output "dangerous_tcp_ports" {
  value = data.hss_host_ports.web_dangerous_tcp.ports[*].port
}
