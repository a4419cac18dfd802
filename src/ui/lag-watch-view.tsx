import { Box, Text } from 'ink'

/** The lag watch screen: lines already laid out for the terminal's width (src/render/groups.ts). */
export function LagWatchView({ lines }: { lines: readonly string[] }) {
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the lines are positional rows of one frame
        <Text key={i} wrap="truncate-end">
          {line}
        </Text>
      ))}
    </Box>
  )
}
