import { Box, Text } from 'ink'

/** The lag watch screen: lines already laid out for the terminal's width (src/render/groups.ts). */
export function LagWatchView({ lines }: { lines: readonly string[] }) {
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line}
        </Text>
      ))}
    </Box>
  )
}
