cluster {
name = "x"
    dbgpt_version="0.6.3"
}
server "s1" {
  address = "10.0.0.1"
  ssh_port = 22
  # comment stays
  key_file= "~/.ssh/id"
}
