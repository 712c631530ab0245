variable "token" {
  sensitive = true
  default   = "hunter2-token"
}

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  env    = { TOKEN = env(var.token) }
}

# want: 16:22 Error in function call: Call to function "env" failed: environment variable "(sensitive)" is not set.
