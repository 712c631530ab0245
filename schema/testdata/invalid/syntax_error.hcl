cluster {
  name = "t"

server "s1" {

# want: 4:13 Unclosed configuration block: There is no closing brace for this block before the end of the file
