cluster {
  name          = "t"
  dbgpt_version = "latest"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 3:19 Unsupported DB-GPT version: "latest" is not a DB-GPT version hactl supports: write it like "0.6.3" or "0.7.0"
